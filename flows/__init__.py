"""One function per user-visible change: the road every change takes, whoever starts it.

A flow calls the services for the rules and the state, and the chat port (`flows.port`)
for Mattermost. Plugins parse a request and call one flow; timers and alerts call the same.
"""
