"""Messages read from queues and topics: their bodies are attacker data too.

Another service (or an attacker who can publish) writes them, so a consumer
must treat them like a request: SQS ``receive_message``, Kafka consumers,
NATS subscriptions, Redis streams, lists and pub/sub.
"""

from __future__ import annotations

# methods whose result is a message read from a queue or topic
READ_METHODS = frozenset({"receive_message", "receive_messages", "next_msg", "xread",
                          "xreadgroup", "blpop", "brpop", "brpoplpush", "blmove",
                          "get_message", "getmany", "consume"})
# constructors whose object yields messages when iterated
CONSUMERS = frozenset({"kafka.KafkaConsumer", "aiokafka.AIOKafkaConsumer",
                       "confluent_kafka.Consumer", "kafka.consumer.KafkaConsumer"})
