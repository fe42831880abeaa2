package conduit

import "sync"

// Event is something that happened which open UIs may want to show.
type Event struct {
	// Type names the event, e.g. "identity".
	Type string `json:"type"`
	// State is the identity state after an "identity" event, the
	// connection state after a "network" event, the delivery or transfer
	// state otherwise.
	State string `json:"state,omitempty"`
	// ID names what the event is about: a transfer, a message.
	ID string `json:"id,omitempty"`
	// Name is a file name, for "transfer" events.
	Name string `json:"name,omitempty"`
	// Text is a short sentence for the person (a failover, an error).
	Text string `json:"text,omitempty"`
	// Done, Total, Rate (bytes per second) and ETA (seconds, -1 unknown)
	// report a "transfer".
	Done  int64   `json:"done,omitempty"`
	Total int64   `json:"total,omitempty"`
	Rate  float64 `json:"rate,omitempty"`
	ETA   float64 `json:"eta,omitempty"`
}

// Event types.
//
//	identity  the identity was locked or unlocked (State)
//	network   the connection changed or a call failed over (State, Text)
//	transfer  an upload's or download's progress (ID, Name, Done, Total, Rate, ETA, State)
//	mail      new mail arrived or a delivery state changed
//	wallet    the balance or history changed
//	files     the drive changed

// Bus fans events out to subscribers. A slow subscriber loses events rather
// than blocking the publisher.
type Bus struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: make(map[chan Event]struct{})} }

// Subscribe returns a channel of events and a function that ends the
// subscription and closes the channel.
func (b *Bus) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 16)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Publish sends e to every subscriber that has room for it.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
