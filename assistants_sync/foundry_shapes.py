"""The shapes of Microsoft Foundry's agents API (``azure-ai-projects`` 2.10.0), shared by the
`foundry_agent` kind (to validate manifests before any request) and the emulator (to answer as
the service does). Every table is checked against the package's models by the emulator's tests.
"""

from __future__ import annotations

import re

# The collection name of Foundry's versioned agents: an endpoint routes it to {project}/agents (Foundry only).
FOUNDRY_AGENTS_COLLECTION = "foundry_agents"
API_VERSIONS = ("v1",)  # the GA data-plane version the package's request builders default to
AGENT_KINDS = ("prompt", "hosted", "workflow", "external", "voice")  # AgentKind
NAME_MAX = 63
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
FEATURES_HEADER = "Foundry-Features"
# Preview features a create must opt in to with the Foundry-Features header (azure-ai-projects' opt-in keys).
PREVIEW_KINDS = {"workflow": "WorkflowAgents=V1Preview", "external": "ExternalAgents=V1Preview",
                 "voice": "VoiceAgents=V1Preview", "hosted": "HostedAgents=V1Preview"}
PREVIEW_FIELDS = {"draft": "DraftAgents=V1Preview", "digital_worker_type": "DigitalWorker=V1Preview"}
LIST_LIMIT_DEFAULT = 20  # "Limit can range between 1 and 100, and the default is 20."
LIST_LIMIT_MAX = 100

# The create-version body (CreateAgentVersionRequest as create_version builds it).
VERSION_REQUEST_FIELDS = frozenset({"definition", "description", "metadata", "blueprint_reference",
                                    "digital_worker_type", "draft"})
# PromptAgentDefinition: (required, optional) JSON names.
PROMPT_FIELDS = (frozenset({"kind", "model"}),
                 frozenset({"rai_config", "harness", "instructions", "skills", "temperature", "top_p", "reasoning",
                            "tools", "tool_choice", "text", "structured_inputs"}))
REASONING_FIELDS = frozenset({"mode", "effort", "summary", "context", "generate_summary"})
REASONING_CHOICES = {"summary": ("auto", "concise", "detailed"), "context": ("auto", "current_turn", "all_turns"),
                     "generate_summary": ("auto", "concise", "detailed")}
TEXT_FIELDS = frozenset({"format"})
# TextResponseFormat by `type`: (required, optional).
TEXT_FORMATS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "text": (frozenset({"type"}), frozenset()),
    "json_object": (frozenset({"type"}), frozenset()),
    "json_schema": (frozenset({"type", "name", "schema"}), frozenset({"description", "strict"})),
}
STRUCTURED_INPUT_FIELDS = frozenset({"description", "default_value", "schema", "required"})
RAI_CONFIG_FIELDS = (frozenset({"rai_policy_name"}), frozenset({"invocations_moderation"}))
TOOL_CHOICE_OPTIONS = ("none", "auto", "required")  # ToolChoiceOptions; an object is a ToolChoiceParam

def _fields(required: str, optional: str = "") -> tuple[frozenset[str], frozenset[str]]:
    return frozenset({"type", *required.split()}), frozenset(optional.split())

# The Tool union by `type`: (required, optional) JSON names of each member model.
TOOL_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "a2a": _fields("a2a_version", "base_url agent_card_path project_connection_id send_credentials_for_agent_card"),
    "a2a_preview": _fields("", "base_url agent_card_path project_connection_id send_credentials_for_agent_card"),
    "apply_patch": _fields("", "allowed_callers"),
    "azure_ai_search": _fields("azure_ai_search", "name description tool_configs"),
    "azure_function": _fields("azure_function", "tool_configs"),
    "bing_custom_search_preview": _fields("bing_custom_search_preview"),
    "bing_grounding": _fields("bing_grounding", "name description tool_configs"),
    "browser_automation": _fields("browser_automation"),
    "browser_automation_preview": _fields("browser_automation_preview"),
    "capture_structured_outputs": _fields("outputs", "name description tool_configs"),
    "code_interpreter": _fields("", "allowed_callers name description tool_configs container"),
    "computer": _fields(""),
    "computer_use_preview": _fields("environment display_width display_height"),
    "custom": _fields("name", "async description format defer_loading allowed_callers"),
    "fabric_dataagent_preview": _fields("fabric_dataagent_preview"),
    "fabric_iq_preview": _fields("project_connection_id", "server_label server_url require_approval"),
    "file_search": _fields("vector_store_ids", "max_num_results ranking_options filters name description tool_configs"),
    "function": _fields("name parameters strict", "async description output_schema defer_loading allowed_callers"),
    "github_copilot_toolset_preview": _fields("", "default_config configs"),
    "image_generation": _fields("", "model quality size output_format output_compression moderation background "
                                    "input_fidelity input_image_mask partial_images action name description tool_configs"),
    "local_shell": _fields("", "name description tool_configs"),
    "mcp": _fields("server_label", "server_url connector_id tunnel_id authorization server_description headers "
                                   "allowed_tools allowed_callers require_approval defer_loading project_connection_id "
                                   "tool_configs"),
    "memory_search_preview": _fields("memory_store_name scope", "search_options update_delay"),
    "microsoft_copilot_toolset_preview": _fields("", "default_config configs"),
    "namespace": _fields("name description tools"),
    "openapi": _fields("openapi", "tool_configs"),
    "programmatic_tool_calling": _fields(""),
    "sharepoint_grounding_preview": _fields("sharepoint_grounding_preview"),
    "shell": _fields("", "environment allowed_callers name description tool_configs"),
    "tool_search": _fields("", "execution description parameters"),
    "web_iq_preview": _fields("project_connection_id", "server_label require_approval"),
    "web_search": _fields("", "external_web_access filters user_location search_context_size name description "
                              "tool_configs custom_search_configuration"),
    "web_search_preview": _fields("", "user_location search_context_size search_content_types"),
    "work_iq_preview": _fields("project_connection_id"),
}
