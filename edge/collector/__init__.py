"""The collector: store-and-forward from the site's MQTT broker to a local store and InfluxDB, losing nothing."""
