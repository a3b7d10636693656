"""The MQTT connection section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import Name, SecretFile, StrictModel


class TlsConfig(StrictModel):
    """TLS to the broker: CA to trust, and optionally a client certificate."""

    ca_file: SecretFile
    cert_file: SecretFile | None = None
    key_file: SecretFile | None = None
    insecure_skip_verify: bool = False

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class MqttConfig(StrictModel):
    """Where the broker is and how this node talks to it."""

    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    username: str | None = None
    password_file: SecretFile | None = None
    tls: TlsConfig | None = None
    keepalive: int = Field(default=30, ge=5, le=3600)
    protocol: Literal["5", "3.1.1"] = "5"
    prefix: Name = "edge"
    reconnect_min_s: float = Field(default=0.5, gt=0, le=60)
    reconnect_max_s: float = Field(default=30.0, gt=0, le=600)
    max_inflight: int = Field(default=100, ge=1, le=65535)
    # MQTT 5 Maximum Packet Size announced to the broker (bytes); None: the daemon's default (edge.contract.limits).
    max_packet_size: int | None = Field(default=None, ge=65536, le=268_435_460)

    @model_validator(mode="after")
    def _auth(self) -> MqttConfig:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self
