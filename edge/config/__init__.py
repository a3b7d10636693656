"""Node configuration: typed, immutable, validated; `load_config` is the only way in."""

from edge.config.base import GpioPin, Issue, Name, SecretFile, SerialDevice, StrictModel, read_secret
from edge.config.loader import load_config, parse_config
from edge.config.mqtt import MqttConfig, TlsConfig
from edge.config.node import NodeConfig, OutboxConfig

__all__ = [
    "GpioPin",
    "Issue",
    "MqttConfig",
    "Name",
    "NodeConfig",
    "OutboxConfig",
    "SecretFile",
    "SerialDevice",
    "StrictModel",
    "TlsConfig",
    "load_config",
    "parse_config",
    "read_secret",
]
