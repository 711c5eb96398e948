"""Hello function for Google's functions-framework (the peer in bench/run.py)."""


def hello(request):
    return "hello"
