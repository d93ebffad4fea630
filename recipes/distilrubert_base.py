"""Recipe: distilrubert-base (see hf_rudistill.recipes.RECIPES["distilrubert-base"] for the published defaults and choices).

    python recipes/distilrubert_base.py --dataset corpus.jsonl --output_dir distilrubert-base   # the published configuration
    python recipes/distilrubert_base.py --demo                                      # scaled to the embedded teacher, CPU

Every option of `--help` overrides the defaults: --teacher, --dataset, --output_dir, loss weights, optimiser...
"""

import sys

from hf_rudistill.recipes import main

if __name__ == "__main__":
    sys.exit(main("distilrubert-base"))
