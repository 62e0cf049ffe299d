"""Print the compute capability of each visible GPU as sm_XY."""

import torch

for index in range(torch.cuda.device_count()):
    major, minor = torch.cuda.get_device_capability(index)
    print(f"{index}: sm_{major}{minor} {torch.cuda.get_device_name(index)}")
