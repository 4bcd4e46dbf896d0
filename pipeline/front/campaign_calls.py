"""The campaign calls: look at a campaign, pause, resume or stop it.

Usage::

    import pipeline
    info = pipeline.campaign_info("nightly.yaml")        # CampaignInfo: status, counters
    pipeline.campaign_status("nightly.yaml").value       # "inProgress", "paused", ...
    pipeline.pause_campaign("nightly.yaml")              # returns the status after the call
"""

from __future__ import annotations

from pipeline.api import CallsApiClient, CampaignInfo, CampaignStatus
from pipeline.front.source import ConfigLike, as_config, resolve_token
from pipeline.front.wiring import api_client


def _client(config: ConfigLike, token: str | None, client: CallsApiClient | None) -> CallsApiClient:
    if client is not None:
        return client
    return api_client(as_config(config), resolve_token(token))


def campaign_info(
    config: ConfigLike, *, token: str | None = None, client: CallsApiClient | None = None
) -> CampaignInfo:
    """The campaign's settings, status and counters."""
    return _client(config, token, client).campaign_info()


def campaign_status(
    config: ConfigLike, *, token: str | None = None, client: CallsApiClient | None = None
) -> CampaignStatus:
    """The campaign's status (inProgress, paused, finished, ...)."""
    return _client(config, token, client).campaign_status()


def _control(
    action: str, config: ConfigLike, token: str | None, client: CallsApiClient | None
) -> CampaignStatus:
    api = _client(config, token, client)
    getattr(api, action)()
    return api.campaign_status()


def pause_campaign(
    config: ConfigLike, *, token: str | None = None, client: CallsApiClient | None = None
) -> CampaignStatus:
    """Pause: start no new attempts (calls in progress finish); returns the status after."""
    return _control("pause", config, token, client)


def resume_campaign(
    config: ConfigLike, *, token: str | None = None, client: CallsApiClient | None = None
) -> CampaignStatus:
    """Resume a paused campaign; returns the status after."""
    return _control("resume", config, token, client)


def stop_campaign(
    config: ConfigLike, *, token: str | None = None, client: CallsApiClient | None = None
) -> CampaignStatus:
    """Stop the campaign for good (it cannot be resumed); returns the status after."""
    return _control("stop", config, token, client)
