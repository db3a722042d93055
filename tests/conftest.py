"""Suite-wide settings: the tests use tiny networks, which run fastest on one thread."""

import torch

torch.set_num_threads(1)
