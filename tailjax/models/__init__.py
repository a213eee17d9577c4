"""The models: the study's NanoTransformer (`transformer`), Phase 3c's image classifiers (`vision`: mlp, cnn, vit),
experiment 1.1's FFN (`ffn`); `registry.build` makes one from the config, `param_kinds` names their parameters.

The choice lists below are what `validate` checks before jax loads, so this file imports nothing.
"""

TASK = "task"  # a user's own model and data (tailjax.Task), trained from Python by tailjax.train_rows
NAMES = ("transformer", "ffn", "mlp", "cnn", "vit", "quadratic", TASK)  # quadratic: the noisy quadratic model
IMAGE_MODELS = ("mlp", "cnn", "vit")
DTYPES = ("float32", "bfloat16")
ATTENTION = ("auto", "xla", "blocked", "cudnn")
CONVS = ("auto", "xla", "im2col")
MATMULS = ("auto", "xla", "cpu")  # models/matmul.py
