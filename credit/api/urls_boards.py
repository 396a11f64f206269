from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from credit.api import boards

urlpatterns: list[URLPattern | URLResolver] = [
    path("boards/", boards.BoardListApi.as_view(), name="board-list"),
    path("boards/<int:pk>/", boards.BoardDetailApi.as_view(), name="board-detail"),
    path("standard/", boards.StandardMineApi.as_view(), name="standard"),
    path("standard/<str:code>/", boards.StandardPublicApi.as_view(), name="standard-public"),
]
