"""RP-T001 (code), vulnerable: django request data reaches the sink through str.format."""

from django.http import JsonResponse


def item_view(request):
    value = "{}".format(request.GET.get("q", "")).strip()
    code = compile(f"rate = {value}", "<rule>", "exec")  # expect: RP-T001 CWE-94
    result = code
    return JsonResponse({"ok": True})
