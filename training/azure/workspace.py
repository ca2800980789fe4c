"""The workspace connection: where its configuration comes from, and one sentence when it fails.

Configuration, the SDK's own way: a ``config.json`` downloaded from the workspace
(found in the working folder or above, or in ``.azureml/``, as
``MLClient.from_config`` looks), else the three variables below. Credentials come
from ``DefaultAzureCredential`` (``az login``, a service principal's variables, a
managed identity). Without either, :func:`ml_client` raises :class:`NotConfigured`
at once: nothing is retried, nothing waits on the network.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

ENV_VARS = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME")
CONFIG_FILE = "config.json"
SCOPE = "https://management.azure.com/.default"
SETUP = ("download config.json from the workspace's overview page in the Azure portal into "
         "this folder, or set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and "
         "AZUREML_WORKSPACE_NAME")
LOGIN = ("run `az login` (Azure CLI), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
         "AZURE_CLIENT_SECRET for a service principal")
STUDIO = "https://ml.azure.com"


class NotConfigured(Exception):
    """Azure ML cannot be reached; the message says what is missing and how to set it up."""


@dataclass(frozen=True)
class WorkspaceConfig:
    """Where the workspace is: from config.json or from the environment."""

    source: str  # the config file's path, or "environment"
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace: str | None = None


def find_config_file(start: Path | None = None) -> Path | None:
    """config.json in `start` (default: the working folder) or above, as the SDK looks."""
    folder = (start or Path.cwd()).resolve()
    for place in (folder, *folder.parents):
        for candidate in (place / CONFIG_FILE, place / ".azureml" / CONFIG_FILE):
            if candidate.is_file():
                return candidate
    return None


def workspace_config() -> WorkspaceConfig:
    """The workspace's coordinates; NotConfigured says which are missing."""
    found = find_config_file()
    if found is not None:
        return WorkspaceConfig(source=str(found))
    values = {name: os.environ.get(name, "").strip() for name in ENV_VARS}
    missing = [name for name, value in values.items() if not value]
    if len(missing) == len(ENV_VARS):
        raise NotConfigured(f"Azure ML is not configured: no {CONFIG_FILE} and no "
                            f"{', '.join(ENV_VARS)}; {SETUP}.")
    if missing:
        raise NotConfigured(f"Azure ML is not fully configured: {', '.join(missing)} "
                            f"{'is' if len(missing) == 1 else 'are'} not set; {SETUP}.")
    return WorkspaceConfig("environment", *values.values())


def ml_client(check_login: bool = True) -> MLClient:
    """A workspace client, with the credential tried once up front (no retries)."""
    config = workspace_config()
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    # No interactive browser, and the managed-identity probe gives up at once off Azure.
    credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    if check_login:
        # The credential chain logs every attempt as a warning; our one sentence says it.
        logging.getLogger("azure.identity").setLevel(logging.CRITICAL)
        with azure_errors("sign in to Azure"):
            credential.get_token(SCOPE)
    with azure_errors("read the workspace configuration"):
        if config.source == "environment":
            return MLClient(credential, config.subscription_id, config.resource_group,
                            config.workspace)
        return MLClient.from_config(credential, path=config.source)


def status() -> tuple[bool, str]:
    """(configured, one sentence): whether a job could be submitted, without any network.

    Only the configuration is checked; credentials are tried at the first real call.
    """
    try:
        config = workspace_config()
    except NotConfigured as exc:
        return False, str(exc)
    where = (f"{config.workspace} in {config.resource_group}" if config.source == "environment"
             else config.source)
    return True, f"Azure ML workspace configured ({where})."


def _first_sentence(text: str) -> str:
    line = " ".join(text.strip().split())
    for stop in (". ", "\n"):
        if stop in line:
            line = line.split(stop, 1)[0]
    return line.rstrip(".")[:300]


@contextlib.contextmanager
def azure_errors(action: str) -> Iterator[None]:
    """Turn the SDK's and azure.core's exceptions into NotConfigured with one sentence."""
    from azure.ai.ml.exceptions import MlException, ValidationException
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
    )

    try:
        yield
    except ClientAuthenticationError:
        raise NotConfigured(f"Could not {action}: no usable Azure credentials; {LOGIN}.") from None
    except ResourceNotFoundError as exc:
        raise NotConfigured(f"Could not {action}: not found "
                            f"({_first_sentence(str(exc.message or exc))}).") from None
    except HttpResponseError as exc:
        raise NotConfigured(f"Could not {action}: Azure answered "
                            f"{exc.status_code} ({_first_sentence(str(exc.message or exc))}).") \
            from None
    except (ValidationException, MlException, AzureError) as exc:
        raise NotConfigured(f"Could not {action}: {_first_sentence(str(exc))}.") from None
    except ImportError as exc:
        raise NotConfigured(f"Could not {action}: {exc}; install requirements.txt.") from None
