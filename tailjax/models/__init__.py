"""The models: the study's NanoTransformer (`transformer`), Phase 3c's image classifiers (`vision`: mlp, cnn, vit),
experiment 1.1's FFN (`ffn`); `registry.build` makes one from the config, `param_kinds` names their parameters.

The choice lists below are what `validate` checks before jax loads, so this file imports nothing.
"""

NAMES = ("transformer", "ffn", "mlp", "cnn", "vit", "quadratic")  # quadratic: the noisy quadratic model (issue 15)
IMAGE_MODELS = ("mlp", "cnn", "vit")
DTYPES = ("float32", "bfloat16")
ATTENTION = ("auto", "xla", "blocked", "cudnn")
CONVS = ("auto", "xla", "im2col")
MATMULS = ("auto", "xla", "cpu")  # models/matmul.py
