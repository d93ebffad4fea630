"""Recipe: deberta-v1-distill. Published defaults and choices: hf_rudistill.recipes.RECIPES["deberta-v1-distill"].

    python recipes/deberta_v1_distill.py --dataset corpus.jsonl --output_dir deberta-v1-distill
    python recipes/deberta_v1_distill.py --demo     # scaled to the embedded teacher, CPU

Every option of --help overrides a default: --teacher, --dataset, --output_dir, loss weights, optimiser...
"""

import sys

from hf_rudistill.recipes import main

if __name__ == "__main__":
    sys.exit(main("deberta-v1-distill"))
