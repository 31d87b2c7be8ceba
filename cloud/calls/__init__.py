"""Call-button calls: a customer's press opens a call for the room; an advisor acknowledges it;
the customer's long press, the advisor's arrival or the timeout clears it. Each call keeps its
times (pressed, escalated, SMS sent, acknowledged, arrived, cleared) for statistics and the
staff id of who took it; nothing about the customer."""
