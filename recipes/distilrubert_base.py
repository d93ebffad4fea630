"""Recipe: distilrubert-base. Published defaults and choices: hf_rudistill.recipes.RECIPES["distilrubert-base"].

    python recipes/distilrubert_base.py --dataset corpus.jsonl --output_dir distilrubert-base
    python recipes/distilrubert_base.py --demo     # scaled to the embedded teacher, CPU

Every option of --help overrides a default: --teacher, --dataset, --output_dir, loss weights, optimiser...
"""

import sys

from hf_rudistill.recipes import main

if __name__ == "__main__":
    sys.exit(main("distilrubert-base"))
