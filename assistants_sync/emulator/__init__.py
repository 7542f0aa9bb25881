"""A faithful emulator of the Assistants and Agents endpoints, for tests, demos and local runs."""

from .agents import AgentStore
from .entra import AccessToken, EmulatorCredential, ManualClock, TokenAuthority
from .knowledge import KnowledgeStore
from .server import EmulatorServer, Faults, RecordedRequest, make_server, running_emulator
from .store import AssistantStore, EmulatorError

__all__ = [
    "AccessToken",
    "AgentStore",
    "AssistantStore",
    "EmulatorCredential",
    "EmulatorError",
    "EmulatorServer",
    "Faults",
    "KnowledgeStore",
    "ManualClock",
    "RecordedRequest",
    "TokenAuthority",
    "make_server",
    "running_emulator",
]
