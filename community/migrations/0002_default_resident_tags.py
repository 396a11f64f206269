from django.db import migrations

from community.models import DEFAULT_RESIDENT_TAGS


def add_tags(apps, schema_editor):
    ResidentTag = apps.get_model("community", "ResidentTag")
    for code, name in DEFAULT_RESIDENT_TAGS:
        ResidentTag.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(add_tags, migrations.RunPython.noop)]
