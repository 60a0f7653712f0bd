"""AppError: the error body every Mattermost API failure carries."""

MESSAGES = {
    "api.context.session_expired.app_error": "Invalid or expired session, please login again.",
    "api.context.permissions.app_error": "You do not have the appropriate permissions.",
    "api.context.404.app_error": "Sorry, we could not find the page.",
    "api.context.invalid_url_param.app_error": "Invalid or missing {name} parameter in request URL.",
    "api.context.invalid_body_param.app_error": "Invalid or missing {name} in request body.",
    "api.context.invalid_param.app_error": "Invalid {name} parameter.",
    "app.user.missing_account.const": "Unable to find the user.",
    "app.user.get_by_username.app_error": ("Unable to find an existing account matching your username for this team. "
                                            "This team may require an invite from the team owner to join."),
    "app.team.get_by_name.missing.app_error": "Unable to find the existing team.",
    "app.team.get.find.app_error": "Unable to find the existing team.",
    "app.team.get_member.missing.app_error": "No team member found for that user ID and team ID.",
    "app.channel.get.existing.app_error": "Unable to find the existing channel.",
    "app.channel.get_by_name.missing.app_error": "Channel does not exist.",
    "app.channel.get_member.missing.app_error": "No channel member found for that user ID and channel ID.",
    "app.channel.create_channel.internal_error": "Unable to save channel.",
    "store.sql_channel.save_channel.exists.app_error": "A channel with that name already exists on the same team.",
    "model.channel.is_valid.2_or_more.app_error": "Name must be 2 or more lowercase alphanumeric characters.",
    "model.channel.is_valid.display_name.app_error": "Invalid display name.",
    "model.channel.is_valid.type.app_error": "Invalid type.",
    "model.channel.is_valid.header.app_error": "Invalid header.",
    "model.channel.is_valid.purpose.app_error": "Invalid purpose.",
    "api.channel.create_channel.direct_channel.app_error": "Must use createDirectChannel API service for direct message channel creation.",
    "api.channel.add_user_to_channel.type.app_error": "Can not add user to this channel type.",
    "api.channel.delete_channel.deleted.app_error": "The channel has been archived or deleted.",
    "api.channel.delete_channel.type.invalid": "Unable to delete direct or group message channels",
    "api.channel.delete_channel.cannot.app_error": "Unable to delete the default channel {name}.",
    "api.channel.restore_channel.restored.app_error": "Unable to unarchive channel. The channel is not archived.",
    "api.channel.update_channel_privacy.default_channel_error": "The default channel cannot be made private.",
    "api.channel.remove.default.app_error": "Unable to remove user from the default channel {name}.",
    "api.channel.remove_channel_member.type.app_error": "Unable to remove user from a channel.",
    "api.post.create_post.can_not_post_to_deleted.error": "Can not post to deleted channel.",
    "api.post.create_post.root_id.app_error": "Invalid RootId parameter.",
    "api.post.create_post.channel_root_id.app_error": "Invalid ChannelId for RootId parameter.",
    "api.post.update_post.can_not_update_post_in_deleted.error": "Can not update a post in a deleted channel.",
    "api.post.patch_post.can_not_update_post_in_deleted.error": "Can not update a post in a deleted channel.",
    "api.post.delete_post.can_not_delete_post_in_deleted.error": "Can not delete a post in a deleted channel.",
    "api.post.update_post.permissions_details.app_error": "Already deleted id={id}.",
    "api.post.update_post.system_message.app_error": "Unable to update system message.",
    "model.post.is_valid.msg.app_error": "Invalid message.",
    "app.post.get.app_error": "Unable to get the post.",
    "api.post.do_action.action_id.app_error": "Invalid action id.",
    "api.post.do_action.action_integration.app_error": "Action integration error.",
    "api.reaction.save_reaction.invalid.app_error": "Reaction is not valid.",
    "api.reaction.save_reaction.user_id.app_error": "You are not allowed to save reaction for the other user.",
    "api.reaction.save.archived_channel.app_error": "You cannot react in an archived channel.",
    "api.command.disabled.app_error": "Commands have been disabled by the system admin.",
    "api.command.execute_command.start.app_error": "No command trigger found.",
    "api.command.execute_command.not_found.app_error": ("Command with a trigger of '{trigger}' not found. To send a message beginning with \"/\", "
                                                        "try adding an empty space at the beginning of the message."),
    "api.command.execute_command.failed.app_error": "Command with a trigger of '{trigger}' failed.",
    "api.command.execute_command.failed_resp.app_error": "Command with a trigger of '{trigger}' returned response {status_text}.",
    "api.command.duplicate_trigger.app_error": "This trigger word is already in use. Please choose another word.",
    "model.command.is_valid.trigger.app_error": "Invalid trigger.",
    "model.command.is_valid.url.app_error": "Invalid URL.",
    "model.command.is_valid.url_http.app_error": "Invalid URL. Must be a valid URL and start with http:// or https://.",
    "model.command.is_valid.method.app_error": "Invalid method.",
    "app.command.getcommand.app_error": "Unable to get command.",
    "store.sql_command.save.get.app_error": "Unable to get the command.",
    "app.command_webhook.get.missing": "Unable to find the webhook.",
    "app.command_webhook.try_use.invalid": "Invalid webhook.",
    "interactive_message.decode_trigger_id.base64_decode_failed": "Failed to decode base64 for trigger ID for interactive dialog.",
    "interactive_message.decode_trigger_id.missing_data": "Trigger ID missing required data for interactive dialog.",
    "interactive_message.decode_trigger_id.signature_decode_failed": "Failed to decode base64 signature of trigger ID for interactive dialog.",
    "interactive_message.decode_trigger_id.verify_signature_failed": "Signature verification failed of trigger ID for interactive dialog.",
    "interactive_message.decode_trigger_id.expired": "Trigger ID for interactive dialog is expired. Trigger IDs live for a maximum of {seconds} seconds.",
    "api.file.upload_file.incorrect_number_of_files.app_error": "Unable to upload files. Incorrect number of files specified.",
    "app.file_info.get.app_error": "Unable to get the file info.",
    "api.user.update_user_roles.invalid": "Invalid roles.",
    "api.user.autocomplete_users.missing_team_id.app_error": "Team id parameter is required to autocomplete by channel.",
}


class AppError(Exception):
    def __init__(self, status: int, err_id: str, detailed: str = "", **fmt):
        self.status = status
        self.err_id = err_id
        template = MESSAGES.get(err_id, err_id)
        try:
            self.message = template.format(**fmt)
        except (KeyError, IndexError):
            self.message = template
        self.detailed = detailed
        super().__init__(f"{status} {err_id}: {self.message}")

    def body(self, request_id: str) -> dict:
        return {
            "id": self.err_id,
            "message": self.message,
            "detailed_error": self.detailed,
            "request_id": request_id,
            "status_code": self.status,
        }


def forbidden(user_id: str, permission: str) -> AppError:
    return AppError(403, "api.context.permissions.app_error",
                    f"userId={user_id}, permission={permission},")


def bad_url_param(name: str) -> AppError:
    return AppError(400, "api.context.invalid_url_param.app_error", name=name)


def bad_body_param(name: str) -> AppError:
    return AppError(400, "api.context.invalid_body_param.app_error", name=name)
