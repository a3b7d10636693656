"""The test rig: real Mosquitto, VictoriaMetrics and InfluxDB processes on free loopback ports."""
