import sys
from pathlib import Path

import torch

# Tests import the packages under models/ (idn, ...) without installing them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.set_num_threads(2)  # the machine's cores are shared
