package sc.fiji.sd.cli;

import java.util.Iterator;

import sc.fiji.sd.control.ControlPreprocessors;

/** The control types for {@code --control-type}'s help and shell completion: the pre-processor registry, never a copy. */
final class ControlTypeNames implements Iterable<String> {

	@Override
	public Iterator<String> iterator() {
		return ControlPreprocessors.names().iterator();
	}
}
