"""Pure functions of finished results: the optimum per batch size and the β fit (`scaling`), grid extension plans
(`extend`), the transfer test (`transfer`), weight norms (`weight_norms`), per-lane results (`results`), a sweep's
summary files (`summary`), re-analysis of any results.csv (`analyze`), plots, and runs side by side (`compare_runs`,
`alpha_vs_width`). Nothing here imports `tailjax.training`: an analysis never needs the training stack.
"""
