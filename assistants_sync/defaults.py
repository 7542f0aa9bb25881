"""Defaults shared by the library and the CLI, in a module light enough for `--help` to import."""

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_STACK = "default"
DEFAULT_PARALLELISM = 10
CONFIG_NAMES = ("assistants-sync.yaml", "assistants-sync.yml")  # the project file; never a manifest
DEFAULT_LOCK_LEASE = 30.0  # seconds an apply's lock lives unrenewed before a waiting apply takes it over
