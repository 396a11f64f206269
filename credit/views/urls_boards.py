"""Routes of the red/grey list, garbage weighing and public standard pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from credit.views import boards, garbage, standard

urlpatterns: list[URLPattern | URLResolver] = [
    path("standard/", standard.standard_mine, name="standard"),
    path("standard/<str:code>/", standard.standard_public, name="standard-public"),
    path("boards/", boards.board_index, name="boards"),
    path("boards/publish/", boards.board_publish_page, name="board-publish"),
    path("boards/privacy/", boards.board_privacy, name="board-privacy"),
    path("boards/<int:pk>/", boards.board_detail, name="board-detail"),
    path("boards/<int:pk>/poster/", boards.board_poster, name="board-poster"),
    path("garbage/", garbage.garbage_weigh, name="garbage"),
    path("garbage/<int:pk>/slip/", garbage.garbage_slip, name="garbage-slip"),
]
