"""Eval check: answer.toml is one kernel-builder project that serves A100, H100, B200 and RTX 5090.

Rules of the skill: one build.toml, no arch-specific capabilities ("9.0a") for a kernel
that uses nothing arch-specific, no cuda-minver without a feature that needs it, the
torch binding listed, the kernel's sources listed. Exit 0 when every rule holds.
"""

import re
import sys
import tomllib


def problems(config: dict) -> list[str]:
    found = []
    general = config.get("general", {})
    if not re.fullmatch(r"[a-z0-9-]+", str(general.get("name", ""))):
        found.append("general.name must be lowercase letters, digits and dashes")
    if general.get("backends") != ["cuda"]:
        found.append('general.backends must be ["cuda"]')
    if "torch-ext/torch_binding.cpp" not in config.get("torch", {}).get("src", []):
        found.append("torch.src must list torch-ext/torch_binding.cpp")
    kernels = config.get("kernel", {})
    if len(kernels) != 1:
        found.append(f"want one [kernel.*] section, found {len(kernels)}")
    for name, kernel in kernels.items():
        capabilities = set(kernel.get("cuda-capabilities", []))
        missing = {"8.0", "9.0", "10.0", "12.0"} - capabilities
        if missing:
            found.append(f"kernel.{name}.cuda-capabilities misses {sorted(missing)}")
        if any(not re.fullmatch(r"\d+\.\d+", str(c)) for c in capabilities):
            found.append(f"kernel.{name}.cuda-capabilities has arch-specific entries: {sorted(capabilities)}")
        if kernel.get("backend") != "cuda":
            found.append(f'kernel.{name}.backend must be "cuda"')
        if not any(str(path).endswith(".cu") for path in kernel.get("src", [])):
            found.append(f"kernel.{name}.src lists no .cu file")
    if "cuda-minver" in str(config):
        found.append("cuda-minver drops CUDA toolkits for no feature that needs it")
    return found


def main() -> int:
    try:
        with open("answer.toml", "rb") as file:
            config = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        print(f"answer.toml: {error}")
        return 1
    found = problems(config)
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
