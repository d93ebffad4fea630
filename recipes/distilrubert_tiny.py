"""Recipe: distilrubert-tiny (see hf_rudistill.recipes.RECIPES["distilrubert-tiny"] for the published defaults and choices).

    python recipes/distilrubert_tiny.py --dataset corpus.jsonl --output_dir distilrubert-tiny   # the published configuration
    python recipes/distilrubert_tiny.py --demo                                      # scaled to the embedded teacher, CPU

Every option of `--help` overrides the defaults: --teacher, --dataset, --output_dir, loss weights, optimiser...
"""

import sys

from hf_rudistill.recipes import main

if __name__ == "__main__":
    sys.exit(main("distilrubert-tiny"))
