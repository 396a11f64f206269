"""The public-service posts of a community (公益岗位), seeded from practice."""

from __future__ import annotations

from django.db import transaction

from community.models import Community
from volunteers.models import Post

# The ten public-service posts communities set up for volunteers and in-service party
# members (定岗定责): code, name, duties. Names and duties are data in Chinese, edited
# by each community afterwards, so they are not translated UI strings.
TEN_POSTS: list[tuple[str, str, str]] = [
    ("security-patrol", "治安巡逻", "按班次巡查楼院、街巷，发现隐患及时上报。"),
    ("traffic-duty", "交通值守", "上下学、早晚高峰在路口协助疏导交通。"),
    ("dispute-mediation", "矛盾调解", "协助调解邻里纠纷，化解矛盾于萌芽。"),
    ("policy-promotion", "政策宣传", "入户、入楼宣传政策法规，收集居民意见。"),
    ("environment", "环境整治", "参加楼院清扫、垃圾分类引导和环境整治。"),
    ("care-and-support", "关爱帮扶", "走访慰问独居老人、困难家庭，结对帮扶。"),
    ("civility", "文明劝导", "劝导乱停乱放、乱扔乱倒等不文明行为。"),
    ("fire-safety", "消防安全", "排查楼道堆物、电动车充电等消防隐患。"),
    ("convenience-service", "便民服务", "参加理发、磨刀、家电维修等便民服务日。"),
    ("culture-and-sports", "文体活动", "组织和参与社区文化、体育活动。"),
]


def posts_install(*, community: Community) -> int:
    """Give a community the ten public-service posts; posts it already has are kept."""
    created = 0
    with transaction.atomic(durable=True):
        for code, name, duties in TEN_POSTS:
            _post, was_created = Post.objects.get_or_create(
                community=community, code=code, defaults={"name": name, "duties": duties}
            )
            created += was_created
    return created
