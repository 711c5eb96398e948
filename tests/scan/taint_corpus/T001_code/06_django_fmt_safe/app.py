"""RP-T001 (code), safe twin: django request data reaches the sink through str.format."""

from django.http import JsonResponse


def item_view(request):
    value = "{}".format(request.GET.get("q", "")).strip()
    code = compile(f"rate = {float(value)}", "<rule>", "exec")  # safe: RP-T001
    result = code
    return JsonResponse({"ok": True})
