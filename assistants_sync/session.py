"""What a command sets up before the pipeline runs: the endpoint it talks to, and the
local emulators of `emulator` and `demo`. The CLI only parses options into these calls."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .actual.client import AssistantsClient, Endpoint
    from .config import Settings
    from .emulator import EmulatorServer

DEMO_API_KEY = "emulator-demo-key"


def build_endpoint(settings: Settings, environ: Mapping[str, str]) -> Endpoint:
    """The endpoint the settings name: OpenAI-shaped, Azure OpenAI or Azure AI Foundry."""
    from .actual.client import Endpoint
    from .config import endpoint_settings

    arguments = endpoint_settings(settings, environ)
    if arguments.pop("foundry", False):
        return Endpoint.foundry(**{k: v for k, v in arguments.items() if k != "azure"})
    if arguments.pop("azure"):
        return Endpoint.azure(**arguments)
    return Endpoint(**arguments)


def emulator_server(*, state_file: str | None, load_file: str | None, host: str, port: int,
                    api_key_env: str | None, required_headers: Mapping[str, str], token_file: Path | None,
                    downloads: bool = False, **faults: Any) -> EmulatorServer:
    """An emulator listening on host:port (not yet serving), its store from --state or --load.

    `token_file` receives a bearer token for the Foundry paths, valid one hour.
    """
    from .emulator import AssistantStore, Faults, make_server

    if state_file and load_file:
        raise ConfigError("give --state (load and save) or --load (load only), not both")
    api_key = os.environ.get(api_key_env, "") if api_key_env else None
    store = AssistantStore(load_file, persist=False) if load_file else AssistantStore(state_file)
    server = make_server(store, host=host, port=port, api_key=api_key or None, faults=Faults(**faults),
                         required_headers=dict(required_headers))
    server.knowledge.downloads = downloads
    if token_file is not None:
        token_file.write_text(server.tokens.mint(lifetime=3600).token + "\n", encoding="utf-8")
        token_file.chmod(0o600)
    return server


@contextmanager
def demo_endpoint(paths: Sequence[str], manifest_options: Mapping[str, Any], state_file: str | None
                  ) -> Iterator[tuple[str, AssistantsClient]]:
    """A throwaway emulator and a client of it, once the manifests are valid: (its URL, the client)."""
    from .actual.client import AssistantsClient, Endpoint
    from .desired.manifest import load_manifests
    from .emulator import AssistantStore, running_emulator

    load_manifests(paths, **manifest_options)  # invalid manifests fail before the emulator starts
    with running_emulator(AssistantStore(state_file)) as server, \
            AssistantsClient(Endpoint(server.base_url, api_key=DEMO_API_KEY)) as client:
        yield server.base_url, client
