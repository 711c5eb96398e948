"""RP-T001: a Kafka consumer applies feature-flag values published on a topic."""

import json

from kafka import KafkaConsumer

FLAGS = {}


def apply(update):
    FLAGS[update["flag"]] = eval(update["value"])  # expect: RP-T001 CWE-94


def main():
    consumer = KafkaConsumer("feature-flags", bootstrap_servers="kafka:9092")
    for message in consumer:
        apply(json.loads(message.value))


if __name__ == "__main__":
    main()
