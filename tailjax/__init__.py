"""tailjax: gradient-noise tails and learning-rate/batch-size scaling, one compiled program per row."""
