"""`edge report`: evidence for the people who fund the space, from the collector's store or InfluxDB."""
