"""KV tables seen as DynamoDB tables: how typed items and keys are stored.

``values`` maps DynamoDB's typed JSON to the plain JSON ``context.kv`` reads
and writes; ``keys`` maps a table's key schema to the KV store's string keys.
"""
