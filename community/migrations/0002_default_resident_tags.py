from django.db import migrations

# The labels community offices keep on residents (from practice); staff may add more.
TAGS = [
    ("party-member", "党员"),
    ("unit-leader", "单元长"),
    ("building-leader", "楼长"),
    ("elderly-alone", "独居老人"),
    ("elderly-80", "80岁以上老人"),
    ("disabled", "残疾人"),
    ("low-income", "低保户"),
    ("veteran", "退役军人"),
    ("volunteer", "志愿者"),
    ("tenant", "租户"),
    ("special-care", "重点关爱"),
]


def add_tags(apps, schema_editor):
    ResidentTag = apps.get_model("community", "ResidentTag")
    for code, name in TAGS:
        ResidentTag.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(add_tags, migrations.RunPython.noop)]
