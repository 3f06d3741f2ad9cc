def boom(request):
    raise RuntimeError("etagger failed")
