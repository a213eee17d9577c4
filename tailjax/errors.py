"""The one exception type that means "the user asked for something we cannot do"."""


class UserError(Exception):
  """Bad input: main prints its message on one line and exits non-zero, without a traceback.

  The message names the problem and the fix.
  """
