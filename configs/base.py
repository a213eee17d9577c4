"""Every field tailjax reads, each with its meaning. Phase files override a few of them.

    python -m tailjax.main --config=configs/base.py --workdir=runs/base

A field that is not here cannot be set: the config is locked, so a mistyped override is an error.
"""

import ml_collections
from ml_collections import config_dict


def get_config():
  c = ml_collections.ConfigDict()

  c.data = ml_collections.ConfigDict()
  c.data.name = "pydoc"  # pydoc (ships with Python) | tinyshakespeare | wikitext2 | random_tokens | injected (ffn)
  #                        images (model mlp | cnn | vit): digits (offline, rendered) | mnist | cifar10 (prepared tfds)
  c.data.path = ""  # file or folder; "" = $TAILJAX_DATA_DIR, else ../shared/data next to the repo
  c.data.source = "auto"  # tinyshakespeare only: auto (local file, else tfds) | file | tfds
  c.data.seq_len = 128  # tokens per training window (T)
  c.data.val_fraction = 0.1  # held-out tail of corpora that have no validation split
  c.data.allow_valid_as_train = False  # wikitext2 without wiki.train.raw: train on valid, evaluate on test
  c.data.random_vocab = 65  # random_tokens: vocabulary size (65 = TinyShakespeare's)
  c.data.random_length = 1_000_000  # random_tokens: corpus length in tokens
  c.data.image_examples = 12_000  # digits: images rendered (data.val_fraction of them held out)
  c.data.upstream = "normal"  # injected (model.name = ffn): law of ∇_y L: normal | cauchy | laplace | uniform
  c.data.noise = "normal"  # noisy_quadratic: law of ξ: normal | laplace | student_t | stable (unit variance / scale)
  c.data.noise_param = 3.0  # noisy_quadratic: ν of student_t (> 2), α of stable (0, 2]
  c.data.spectrum_power = 1.0  # noisy_quadratic: curvatures h_i = i^(-p)

  c.model = ml_collections.ConfigDict()
  c.model.name = "transformer"  # transformer (the study's NanoTransformer) | ffn (experiment 1.1, data.name=injected)
  # | mlp | cnn | vit (images) | quadratic (the noisy quadratic model, data.name=noisy_quadratic)
  #                               | mlp | cnn | vit (Phase 3c, image data; d_model = width, n_layers = depth)
  c.model.patch_size = 4  # vit: patch side in pixels
  c.model.conv = "auto"  # cnn: auto (im2col matmul on CPU, XLA's convolution elsewhere) | xla | im2col
  c.model.d_model = 64  # residual width D (quadratic: the dimension of θ)
  c.model.theta0 = 1.0  # quadratic: every coordinate of θ at the start
  c.model.n_layers = 4  # transformer blocks
  c.model.n_heads = 4  # attention heads H (D must divide by H)
  c.model.mlp_ratio = 4  # feed-forward width = mlp_ratio * D
  c.model.dtype = "float32"  # compute dtype: float32 | bfloat16 (parameters stay float32)
  c.model.attention = "auto"  # auto | xla (jax.nn.dot_product_attention) | blocked (causal query blocks)
  c.model.attention_block = 32  # query block size of the blocked attention (32: +10% steps/s at T = 128 on a CPU)
  c.model.matmul = "auto"  # transformer's dense layers: auto (cpu on the CPU, xla elsewhere) | xla | cpu (their weight
  #                          gradient laid out for XLA:CPU's fast dot: +30% steps/s on a CPU row; models/matmul.py)
  c.model.tie_embeddings = False  # share the token embedding with the output head

  c.optim = ml_collections.ConfigDict()
  c.optim.name = "adamw"  # behind optax.clip_by_global_norm: adamw | sgd (momentum) | muon (optax.contrib.muon)
  c.optim.momentum = 0.9  # sgd: momentum; muon: its momentum β (Muon's authors use 0.95)
  c.optim.nesterov = False  # sgd and muon: Nesterov momentum
  c.optim.muon_adam_lr_ratio = 0.1  # muon: LR of its AdamW part (embeddings, head, vectors) as a fraction of the lane's
  c.optim.b1 = 0.9  # Adam first-moment decay (adamw, and muon's AdamW part)
  c.optim.b2 = 0.999  # Adam second-moment decay (the study's PyTorch default); with b2_rule, its value at b2_batch
  c.optim.b2_rule = (
    "fixed"  # fixed (b2 at every B: the study) | half_life_tokens (β2(B) = b2^(B/b2_batch): Marek+ 2025)
  )
  c.optim.b2_batch = 0  # half_life_tokens: the batch size at which β2 = b2 (0 = the smallest of sweep.batch_sizes)
  c.optim.eps = 1e-8  # Adam epsilon (muon: also its Newton-Schulz epsilon)
  c.optim.weight_decay = 0.01  # decoupled weight decay, on matrices only (embeddings included)
  c.optim.clip = config_dict.placeholder(float)  # global-norm clip threshold; None = no clipping
  c.optim.warmup_steps = 100  # linear warmup from 0 to the lane's learning rate
  c.optim.warmup_tokens = config_dict.placeholder(int)  # the warmup in tokens (examples) instead: row B warms up
  #                              warmup_tokens / (B·T) steps; train.budget=tokens takes it in place of warmup_steps
  c.optim.schedule = "constant"  # after warmup: constant | cosine
  c.optim.final_lr_ratio = 0.0  # cosine: final LR as a fraction of the peak

  c.train = ml_collections.ConfigDict()
  c.train.budget = "steps"  # steps (every row trains train.steps: the study) | tokens (every row sees train.tokens)
  #                           | both (each row trains to the longer and is read at both: one fit per budget)
  c.train.steps = 1000  # optimizer steps per lane (budget steps)
  c.train.tokens = 0  # budget tokens: tokens per lane, B·T per step (examples, B per step, for non-text models)
  c.train.log_every = 50  # host-side metric summaries (TensorBoard, progress) every this many steps
  c.train.stats_window = 100  # final_train_loss / train_loss_std / converged use the last this many steps
  c.train.converged_std = 0.01  # converged = train_loss_std below this (the study's criterion)

  c.eval = ml_collections.ConfigDict()
  c.eval.every = 250  # validation loss every this many steps (and at the last step)
  c.eval.every_tokens = 0  # budget tokens: also every this many tokens (0 = ten evaluations over train.tokens)
  c.eval.batch_size = 32  # validation windows per evaluation batch
  c.eval.batches = 8  # fixed validation batches, evenly spaced over the validation split

  c.sweep = ml_collections.ConfigDict()
  c.sweep.batch_sizes = (32,)  # one compiled row per batch size
  c.sweep.learning_rates = (1e-3,)  # lanes of every row
  c.sweep.seeds = (0,)  # lanes too: init and data order; equal seeds share both
  c.sweep.clips = ()  # optional lanes over clip thresholds (None = off); () = optim.clip only
  c.sweep.weight_decays = ()  # optional lanes over weight decays; () = optim.weight_decay only
  c.sweep.b2s = ()  # optional lanes over Adam's β2 (at optim.b2_batch under b2_rule); () = optim.b2 only
  c.sweep.auto_extend = False  # extend a row whose optimum sits on the LR grid's edge until it is bracketed
  c.sweep.max_extensions = 3  # at most this many extension rounds per row
  c.sweep.extend_points = 2  # new learning rates per round, beyond the edge
  c.sweep.extend_ratio = 0.0  # step between them; 0 = the grid's own (geometric mean ratio of neighbours)
  c.sweep.lane_strategy = "auto"  # auto (vmap on GPU/TPU, map on CPU) | vmap | map
  c.sweep.devices = 0  # local devices a row's lanes are split over; 0 = all (never more than the row has lanes)
  # Devices each lane's batch is split over (gradients averaged every step: the same run); 0 = auto: on a CPU every
  # local CPU device, of which the command line starts 2 on a machine with 2 or more cores (README, "Speed"); 1 on
  # an accelerator, whose devices take lanes.
  c.sweep.batch_devices = 0

  c.measure = ml_collections.ConfigDict()  # gradient-noise tails during training (Phase 1; off unless steps given)
  c.measure.steps = ()  # steps to measure at, e.g. (100, 1000); 0 = before training; past the end = the last step
  c.measure.every = 0  # also every this many steps (0 = only measure.steps)
  c.measure.examples = 64  # m: per-example gradients per measurement (fixed training windows, the same each time)
  c.measure.budget_mb = 512.0  # memory for one chunk of per-example gradients; sets the chunk size
  c.measure.coords_per_group = 4096  # coordinates sampled per parameter tensor (all of a smaller one)
  c.measure.k_ratios = (0.05, 0.1, 0.2)  # k / n at which Hill, Pickands and moments are reported
  c.measure.estimators = ("hill", "pickands", "moments_xi", "stable_mohammadi")  # which rows alpha.csv gets
  c.measure.seeds = ()  # measure only the lanes of these seeds (() = every lane; ~1 s a lane with its verdict)
  c.measure.verdict = True  # also the full tails.estimate verdict per group at the last measurement (~0.5 s each)
  c.measure.n_boot = 200  # resamples of whole examples behind each robust verdict's interval (0 = asymptotic)

  c.checkpoint = ml_collections.ConfigDict()
  c.checkpoint.every = 500  # save the row state every this many steps (0 = never)
  c.checkpoint.keep = 2  # checkpoints kept per row

  c.transfer = ml_collections.ConfigDict()  # the transfer test (configs/transfer.py); off unless fit is given
  c.transfer.fit = ""  # scaling_fit.json of a finished grid sweep of this config; its β and optima are the reference
  c.transfer.b_ref = 0  # reference batch size (its refined LR_opt is LR_ref); 0 = the smallest bracketed one

  c.analysis = ml_collections.ConfigDict()
  c.analysis.target_losses = ()  # steps to target (critical_batch.json); () = 4 inside the range every row reaches
  c.analysis.results = ""  # a results.csv to re-analyse instead of training (configs/analyze.py); "" = train

  c.distributed = ml_collections.ConfigDict()  # several processes / hosts: rows divided, process 0 summarises
  c.distributed.coordinator = ""  # "" = one process (or every task of an srun step, from SLURM); "host:port" = explicit
  c.distributed.num_processes = 0  # with coordinator: how many processes join
  c.distributed.process_id = -1  # with coordinator: this process, 0 … num_processes - 1

  c.output = ml_collections.ConfigDict()
  c.output.plots = True  # write lr_vs_batch.png, loss_heatmap.png, convergence_curves.png
  c.output.tensorboard = True  # per-lane curves and progress as TensorBoard events under tb/
  # who writes them: "events" (TensorBoard's record format, no TensorFlow in the process) or "clu" (clu's
  # SummaryWriter and ReportProgress; they import TensorFlow, 5.5 s of start-up on 2 cores): the same scalars
  c.output.tensorboard_writer = "events"

  return c
