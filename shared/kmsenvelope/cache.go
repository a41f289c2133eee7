package kmsenvelope

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/carepost/carepost/shared/carepost"
)

// encSlot is the write-side state of one practice: the data key new values
// are sealed under, how many values it has sealed, and the GenerateDataKey
// call in flight, if any.
type encSlot struct {
	key     *dataKey
	uses    int
	pending *flight
}

// sealKey returns the data key to seal one value of practice under, counting
// the use. A key past MaxAge or MaxMessages is replaced by a new one from
// KMS; concurrent callers that find no usable key wait for one call.
func (e *Envelope) sealKey(ctx context.Context, practice string) (*dataKey, error) {
	e.encMu.Lock()
	for {
		s := e.enc[practice]
		if s == nil {
			e.evictEncLocked()
			s = &encSlot{}
			e.enc[practice] = s
		}
		if k := s.key; k != nil && s.uses < e.opt.MaxMessages && e.fresh(k, e.opt.Now()) {
			s.uses++
			e.encMu.Unlock()
			return k, nil
		}
		if f := s.pending; f != nil {
			e.encMu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, carepost.Unavailable(ctx.Err(), "the encryption key service")
			}
			if f.err != nil && !f.abandoned {
				return nil, f.err
			}
			e.encMu.Lock()
			continue
		}
		f := &flight{done: make(chan struct{})}
		s.pending = f
		e.encMu.Unlock()

		k, err := e.generate(ctx, practice)
		if err == nil {
			// The writer reads its own values back often (the reply it just
			// sent); let that cost no Decrypt.
			e.dec.put(decID{practice: practice, sum: sha256.Sum256(k.wrapped)}, k)
		}

		e.encMu.Lock()
		s.pending = nil
		if err == nil {
			s.key, s.uses = k, 0
		}
		f.key, f.err, f.abandoned = k, err, ctx.Err() != nil
		close(f.done)
		if err != nil {
			e.encMu.Unlock()
			return nil, err
		}
		// Loop to take a use of the new key like everyone else.
	}
}

// evictEncLocked makes room for one more practice in the write-side cache:
// first practices whose key is stale or missing, then the one with the
// oldest key. Slots with a call in flight stay. It runs only when a new
// practice arrives at a full cache.
func (e *Envelope) evictEncLocked() {
	if len(e.enc) < e.opt.MaxCachedKeys {
		return
	}
	now := e.opt.Now()
	var oldest string
	var oldestAt time.Time
	for p, s := range e.enc {
		if s.pending != nil {
			continue
		}
		if s.key == nil || !e.fresh(s.key, now) || s.uses >= e.opt.MaxMessages {
			delete(e.enc, p)
			continue
		}
		if oldest == "" || s.key.created.Before(oldestAt) {
			oldest, oldestAt = p, s.key.created
		}
	}
	if len(e.enc) >= e.opt.MaxCachedKeys && oldest != "" {
		delete(e.enc, oldest)
	}
}

// decID names an unwrapped key: the practice it was unwrapped for (the KMS
// encryption context) and the hash of its wrapped form.
type decID struct {
	practice string
	sum      [sha256.Size]byte
}

type decEntry struct {
	id   decID
	key  *dataKey
	uses int // opens served from the cache since it was unwrapped
}

// decCache is the read-side cache: unwrapped keys by decID, least recently
// used first out, each kept at most MaxAge after it was unwrapped and for at
// most MaxMessages opens (the limits of the write side); and the Decrypt
// calls in flight.
type decCache struct {
	mu      sync.Mutex
	max     int
	byID    map[decID]*list.Element // of *decEntry
	lru     *list.List              // front: most recently used
	pending map[decID]*flight
}

func (c *decCache) init(max int) {
	c.max = max
	c.byID = make(map[decID]*list.Element)
	c.lru = list.New()
	c.pending = make(map[decID]*flight)
}

// lookup returns the cached key for id, or the flight to wait for, or a new
// flight that the caller must make the KMS call for and land (leader).
func (c *decCache) lookup(id decID, e *Envelope) (k *dataKey, f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		ent := el.Value.(*decEntry)
		if e.fresh(ent.key, e.opt.Now()) && ent.uses < e.opt.MaxMessages {
			ent.uses++
			c.lru.MoveToFront(el)
			return ent.key, nil, false
		}
		c.lru.Remove(el)
		delete(c.byID, id)
	}
	if f := c.pending[id]; f != nil {
		return nil, f, false
	}
	f = &flight{done: make(chan struct{})}
	c.pending[id] = f
	return nil, f, true
}

// land records the result of a leader's Decrypt and wakes the waiters.
func (c *decCache) land(id decID, f *flight, k *dataKey, err error, abandoned bool) {
	c.mu.Lock()
	delete(c.pending, id)
	if err == nil {
		c.putLocked(id, k)
	}
	f.key, f.err, f.abandoned = k, err, abandoned
	close(f.done)
	c.mu.Unlock()
}

func (c *decCache) put(id decID, k *dataKey) {
	c.mu.Lock()
	c.putLocked(id, k)
	c.mu.Unlock()
}

func (c *decCache) putLocked(id decID, k *dataKey) {
	if el, ok := c.byID[id]; ok {
		ent := el.Value.(*decEntry)
		ent.key, ent.uses = k, 0
		c.lru.MoveToFront(el)
		return
	}
	c.byID[id] = c.lru.PushFront(&decEntry{id: id, key: k})
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.byID, last.Value.(*decEntry).id)
	}
}

// cachedKeys reports the number of unwrapped keys held (for tests).
func (c *decCache) cachedKeys() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
