"""A package of the corpus app: helpers imported by orders_*_{vuln,safe}.py."""
