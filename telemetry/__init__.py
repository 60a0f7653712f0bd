"""Privacy-safe usage telemetry through rudder-sdk-python (see docs/telemetry.md).

`events` turns the services' change notices into the seed's events (ids and counts
only); `sender` queues them off the user's thread and sends them; `plugin` decides at
start whether telemetry is on (write key, settings, the server's diagnostics setting).
"""
