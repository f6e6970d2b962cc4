package fault

// KindOf returns the kind of the *Error in err's chain, and Internal when there is none.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}
