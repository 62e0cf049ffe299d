import pytest


@pytest.fixture
def sample_dir(tmp_path):
    (tmp_path / "data").mkdir()
    return tmp_path
