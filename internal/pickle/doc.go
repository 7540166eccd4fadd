// Package pickle decodes Python pickles without executing anything.
//
// # Overview
//
// Python's pickle format is a small stack machine whose GLOBAL and REDUCE
// opcodes import and call arbitrary Python objects: loading an untrusted
// pickle with Python runs whatever it names (os.system included). [Load]
// implements every opcode of protocols 0 to 5 that data needs, but resolves
// globals only through the caller's allowlist, [Options.Globals]; any
// other global is refused with a *[GlobalError] whose message names it
// ("pickle: global posix.system is not allowed"). The "functions" a pickle
// may call are Go functions of type [Func] the caller put in the
// allowlist; they build Go values and touch nothing else.
//
// Every length the pickle claims (a string, a bytes value, a long integer)
// is read incrementally and checked against the input actually there, so a
// truncated or hostile pickle is an error, never a large allocation.
//
// # Limits
//
// A small pickle can describe a huge value without claiming any length: a
// tuple nested a million deep (one opcode a level), a "billion laughs"
// tuple whose levels each pair the previous one from the memo (2^100
// leaves in under a kilobyte), or calls that copy the same memoized list
// or string thousands of times. Load therefore counts the values a pickle
// creates, calls' copies included, and refuses one beyond
// [Options.MaxNodes] ([DefaultMaxNodes], 32 Mi) with an error wrapping
// [ErrLimit]; it also refuses dict keys nested deeper than 100 levels or
// larger than 64 KiB, since it hashes them. Decoded values may still be
// deep, shared or cyclic graphs: code that walks them must bound its
// depth and work. [Repr] does, and Tuple, *List, *Dict and *Set print
// through it under every fmt verb, so a decoded value is safe to put in an
// error message.
//
// # Values
//
// Python values decode to Go values: None to nil, bool to bool, int to
// int64 (or *big.Int), float to float64, str to string, bytes (and Python
// 2 str) to [Bytes], tuple to [Tuple], list to *[List], dict and
// OrderedDict to *[Dict] (ordered, with Python's key equality), set to
// *[Set]. [Int], [Ints] and [String] help read them, and [Repr] shows them
// as Python would, cut short.
//
// # Allowlists
//
// [Builtins] allows the harmless builtins plain data needs
// (collections.OrderedDict, set, bytes, _codecs.encode). [NumPy] allows
// NumPy's array and scalar reconstructors: an array decodes to an
// *[NDArray] whose Array is an *npy.Array ([AsArray] returns it checked).
// [Merge] combines allowlists. PyTorch checkpoints need more (tensor
// rebuild functions and storages, resolved through
// [Options.PersistentLoad]); package nets/torch provides those.
//
// # Reading a CIFAR-10 python batch
//
// The batches were written by Python 2's cPickle, so their keys are bytes:
//
//	v, err := pickle.Load(f, &pickle.Options{Globals: pickle.Merge(pickle.Builtins(), pickle.NumPy())})
//	d, ok := v.(*pickle.Dict)
//	data, _ := d.Lookup("data")     // finds b'data' or 'data'
//	arr, err := pickle.AsArray(data) // uint8 [10000 3072]
//	labels, _ := d.Lookup("labels")
//	l, ok := pickle.Ints(labels)     // a list of ints
package pickle
