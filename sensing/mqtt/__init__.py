"""A finished night's figures in Home Assistant, over MQTT.

:mod:`~sensing.mqtt.discovery` says what Home Assistant is told: one sensor per figure the
command measures (its MQTT discovery config) and the night's figures as one JSON message;
:mod:`~sensing.mqtt.publisher` sends them with paho-mqtt (the ``mqtt`` extra, imported
lazily), queueing them while the broker is away so that a broker never stops a night.
"""
