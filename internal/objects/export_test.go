package objects

// AfterBackgroundJoinPart makes fn run after each part that a background
// join appends. Call it after JoinInBackground.
func (s *Store) AfterBackgroundJoinPart(fn func(uploadID string, joined int)) {
	s.joins.afterPart = fn
}

// BackgroundJoinsUsed returns how many completions continued a background
// join.
func (s *Store) BackgroundJoinsUsed() int64 { return s.joins.used.Load() }
