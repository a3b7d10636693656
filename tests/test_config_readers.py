"""Reader config sections: each type validated, bad pins, missing ports and unknown types reported by key path."""

from __future__ import annotations

import textwrap

import pytest

from edge.config import parse_config
from edge.config.readers import Mfrc522ReaderConfig, Rdm6300ReaderConfig, SerialLineReaderConfig, WiegandReaderConfig
from edge.errors import ConfigError

HEAD = "site: hq\nnode: reception\nbadge_key_file: badge.key\n"


def parse(body: str):
    return parse_config(HEAD + textwrap.dedent(body), check_secrets=False)


def issues(body: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(body)
    return caught.value.issues


def test_one_reader_of_each_type_with_defaults():
    config = parse(
        """
        readers:
          - {type: mfrc522, name: desk-nfc}
          - {type: rdm6300, name: door-125k, port: /dev/ttyAMA0}
          - {type: serial_line, name: usb, port: /dev/ttyUSB0, format: decimal}
          - {type: wiegand, name: gate, d0_pin: 5, d1_pin: 6}
        """
    )
    mfrc, rdm, line, wiegand = config.readers
    assert isinstance(mfrc, Mfrc522ReaderConfig) and (mfrc.reset_pin, mfrc.poll_interval_s) == (25, 0.1)
    assert isinstance(rdm, Rdm6300ReaderConfig) and rdm.include_version_byte
    assert isinstance(line, SerialLineReaderConfig) and (line.baudrate, line.format) == (9600, "decimal")
    assert isinstance(wiegand, WiegandReaderConfig) and wiegand.formats == (26, 34)
    assert wiegand.frame_timeout_s == 0.025


def test_no_readers_is_valid():
    assert parse("").readers == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("readers:\n  - {type: nfc, name: a}\n", "readers[0].type: unknown type 'nfc'", id="unknown type"),
        pytest.param("readers:\n  - {name: a}\n", "readers[0].type: required key is missing", id="no type"),
        pytest.param(
            "readers:\n  - {type: rdm6300, name: a}\n", "readers[0].port: required key is missing", id="missing port"
        ),
        pytest.param(
            "readers:\n  - {type: serial_line, name: a, port: ttyUSB0}\n",
            "readers[0].port: must be an absolute device path",
            id="port not a device",
        ),
        pytest.param(
            "readers:\n  - {type: wiegand, name: a, d0_pin: 28, d1_pin: 6}\n",
            "readers[0].d0_pin: GPIO 28 does not exist",
            id="pin off the header",
        ),
        pytest.param(
            "readers:\n  - {type: wiegand, name: a, d0_pin: 5}\n",
            "readers[0].d1_pin: required key is missing",
            id="missing pin",
        ),
        pytest.param(
            "readers:\n  - {type: wiegand, name: a, d0_pin: 5, d1_pin: 5}\n",
            "readers[0].d1_pin: GPIO 5 is already used by readers[0].d0_pin",
            id="same pin twice",
        ),
        pytest.param(
            "readers:\n  - {type: mfrc522, name: a, reset_pin: -1}\n",
            "readers[0].reset_pin: GPIO -1 does not exist",
            id="library-style -1 reset pin",
        ),
        pytest.param(
            "readers:\n  - {type: mfrc522, name: a, spi_device: 2}\n",
            "readers[0].spi_device: SPI bus 0 has chip selects 0 and 1 only",
            id="no such chip select",
        ),
        pytest.param(
            "readers:\n  - {type: mfrc522, name: a, poll_interval_s: 0.5}\n",
            "readers[0]: rearm_s must be at least 3 × poll_interval_s",
            id="rearm shorter than polls",
        ),
        pytest.param(
            "readers:\n  - {type: wiegand, name: a, d0_pin: 5, d1_pin: 6, formats: [26, 37]}\n",
            "readers[0].formats[1]: Input should be 26 or 34",
            id="unsupported wiegand format",
        ),
        pytest.param(
            "readers:\n  - {type: wiegand, name: a, d0_pin: 5, d1_pin: 6, bounce_time: 0.01}\n",
            "readers[0].bounce_time: unknown key",
            id="no debounce option",
        ),
        pytest.param(
            "readers:\n  - {type: serial_line, name: a, port: /dev/ttyUSB0, pattern: 'ID:(x'}\n",
            "readers[0].pattern: not a valid regular expression",
            id="bad regex",
        ),
        pytest.param(
            "readers:\n  - {type: serial_line, name: a, port: /dev/ttyUSB0, pattern: 'ID:\\w+'}\n",
            "readers[0].pattern: the pattern needs a group",
            id="regex without group",
        ),
        pytest.param(
            "readers:\n  - {type: serial_line, name: a, port: /dev/ttyUSB0, format: octal}\n",
            "readers[0].format: Input should be 'hex' or 'decimal'",
            id="unknown format",
        ),
        pytest.param(
            "readers:\n  - {type: rdm6300, name: A B, port: /dev/ttyUSB0}\n",
            "readers[0].name: must be 1-48 characters",
            id="name not topic safe",
        ),
        pytest.param(
            "readers:\n  - {type: rdm6300, name: a, port: /dev/ttyUSB0, reopen_min_s: 5, reopen_max_s: 1}\n",
            "readers[0]: reopen_max_s must be at least reopen_min_s",
            id="backoff order",
        ),
    ],
)
def test_bad_reader_config_names_the_key(body, expected):
    found = issues(body)
    assert any(issue.startswith(expected) for issue in found), found


def test_a_port_used_by_two_readers_is_reported_with_both_paths():
    found = issues(
        """
        readers:
          - {type: rdm6300, name: a, port: /dev/ttyUSB0}
          - {type: serial_line, name: b, port: /dev/ttyUSB0}
        """
    )
    assert any(
        issue.startswith("readers[1].port: serial device /dev/ttyUSB0 is already used by readers[0].port")
        for issue in found
    ), found


def test_reader_names_are_unique():
    found = issues(
        """
        readers:
          - {type: rdm6300, name: front, port: /dev/ttyUSB0}
          - {type: rdm6300, name: front, port: /dev/ttyUSB1}
        """
    )
    assert any(
        issue.startswith("readers[1].name: reader name 'front' is already used by readers[0]") for issue in found
    )


def test_a_gpio_on_the_mfrc522_spi_bus_is_refused():
    found = issues(
        """
        readers:
          - {type: mfrc522, name: nfc}
          - {type: wiegand, name: gate, d0_pin: 10, d1_pin: 6}
        """
    )
    assert any(
        issue.startswith("readers[1].d0_pin: GPIO 10 is SPI0 MOSI, used by the MFRC522 at readers[0]")
        for issue in found
    ), found


def test_the_mfrc522_default_reset_pin_is_claimed():
    found = issues(
        """
        readers:
          - {type: mfrc522, name: nfc}
          - {type: wiegand, name: gate, d0_pin: 25, d1_pin: 6}
        """
    )
    assert any(
        issue.startswith("readers[1].d0_pin: GPIO 25 is already used by readers[0].reset_pin") for issue in found
    )


def test_issues_carry_the_line_number():
    found = issues("readers:\n  - {type: rdm6300, name: a}\n")
    assert found == ["readers[0].port: required key is missing (<config>, line 5)"]


def test_check_config_exits_2_naming_the_key(tmp_path, capsys):
    from edge.cli import main

    path = tmp_path / "node.yaml"
    path.write_text(HEAD + "readers:\n  - {type: wiegand, name: gate, d0_pin: 5, d1_pin: 99}\n")
    assert main(["check-config", "--no-secrets", str(path)]) == 2
    assert "readers[0].d1_pin: GPIO 99 does not exist" in capsys.readouterr().err
