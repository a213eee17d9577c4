"""Data: character corpora (`text`), labelled images (`images`), and `loader.load`, which picks one from the config.

The choice lists below are what `validate` checks before jax loads, so this file imports nothing.
"""

DATA_ENV = "TAILJAX_DATA_DIR"  # where the shared corpora live (default: ../shared/data beside the repository)
TEXT = ("pydoc", "tinyshakespeare", "wikitext2", "random_tokens")
# no data on disk: the task draws every example in the program (experiment 1.1's injected gradients; the noisy
# quadratic model's noise)
DRAWN = ("injected", "noisy_quadratic")
TASK = "task"  # a user's own data (tailjax.Task), given from Python
IMAGES = ("digits", "mnist", "cifar10")
READS_PATH = ("tinyshakespeare", "wikitext2")  # the corpora read from data.path (the others are built in)
IMAGE_SHAPES = {"digits": (16, 16, 1), "mnist": (28, 28, 1), "cifar10": (32, 32, 3)}  # H, W, C
SOURCES = ("auto", "file", "tfds")
UPSTREAM_LAWS = ("normal", "cauchy", "laplace", "uniform")  # experiment 1.1's injected upstream gradient
NOISE_LAWS = ("normal", "laplace", "student_t", "stable")  # noisy_quadratic: ξ's law (data.noise, data.noise_param)
