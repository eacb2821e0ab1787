package sc.fiji.sd.fiji;

import javax.swing.JPanel;

import org.scijava.widget.AbstractInputWidget;

/**
 * A widget whose component is a Swing {@code JPanel}: what Fiji's Swing dialog (scijava-ui-swing's SwingInputPanel)
 * takes from any widget plugin, without depending on scijava-ui-swing, which is not on Maven Central.
 */
abstract class PanelWidget<T> extends AbstractInputWidget<T, JPanel> {

	/** The widget's panel, built by the subclass in {@code set}. */
	protected JPanel panel;

	@Override
	public JPanel getComponent() {
		return panel;
	}

	@Override
	public Class<JPanel> getComponentType() {
		return JPanel.class;
	}
}
