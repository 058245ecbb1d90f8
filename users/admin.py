"""The user admin with AiiDA's institution beside Django's fields."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from users.models import UserProfile


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    fields = ["institution"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AiidaUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserProfileInline]
