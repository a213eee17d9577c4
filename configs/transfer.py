"""The transfer test (the study's Phase 2 plan, step 4): Phase 2.5's config, with learning rates predicted from a
reference grid sweep instead of a grid.

    python -m tailjax.main --config=configs/phase2_5.py --workdir=runs/p25            # the reference
    python -m tailjax.main --config=configs/transfer.py \
        --config.transfer.fit=runs/p25/scaling_fit.json --workdir=runs/transfer

Per batch size one lane per rule (β = ½, ⅔, and the reference's fitted β) from (B_ref, LR_ref), the smallest
bracketed batch size and its refined LR_opt; writes transfer.json and the table in summary.txt: each lane's loss gap
to the reference optimum at that batch size. Other overrides must keep model, data and optimizer as the reference's.
"""

from configs import phase2_5


def get_config():
  c = phase2_5.get_config()
  c.transfer.fit = "runs/p25/scaling_fit.json"
  return c
