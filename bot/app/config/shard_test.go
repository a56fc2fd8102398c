package config

import (
	"strings"
	"testing"
)

func TestDiscordShardConfig(t *testing.T) {
	tests := []struct {
		env        map[string]string
		id, count  int
		errMention string
	}{
		{env: map[string]string{}, id: 0, count: 1},
		{env: map[string]string{"DISCORD_SHARD_ID": "2", "DISCORD_SHARD_COUNT": "3"}, id: 2, count: 3},
		{env: map[string]string{"DISCORD_SHARD_ID": "3", "DISCORD_SHARD_COUNT": "3"}, errMention: "DISCORD_SHARD_ID"},
		{env: map[string]string{"DISCORD_SHARD_ID": "-1", "DISCORD_SHARD_COUNT": "3"}, errMention: "DISCORD_SHARD_ID"},
		{env: map[string]string{"DISCORD_SHARD_COUNT": "0"}, errMention: "DISCORD_SHARD_COUNT"},
		{env: map[string]string{"DISCORD_SHARD_COUNT": "two"}, errMention: "DISCORD_SHARD_COUNT"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.env)
		if tt.errMention != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errMention) {
				t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.errMention)
			}
			continue
		}
		if err != nil || c.Discord.ShardID != tt.id || c.Discord.ShardCount != tt.count {
			t.Errorf("%v: shard %d of %d (%v), want %d of %d", tt.env, c.Discord.ShardID, c.Discord.ShardCount, err, tt.id, tt.count)
		}
	}
}
